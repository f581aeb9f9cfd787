"""The task board: tasks, their attempts and history; the task form; comparing attempts."""
