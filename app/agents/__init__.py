"""What Quarterdeck knows about each agent CLI: one module per CLI, with its rules beside it.

A built-in kind is two files named after it: ``<kind>.py``, whose ``ADAPTER`` (an
`app.agents.base.AgentAdapter`) holds what takes code — hook installation and dialect, status
file, trust record, interrupt and answer keys — and ``<kind>.toml``, the data: how to start the
CLI and how to read its screen. `app.agents.registry` finds the modules and
`app.infra.settings` the rules files, so adding a CLI touches nothing else.

Users add or override kinds in ``~/.config/quarterdeck/config.toml`` or ``.quarterdeck.toml``
under ``[agents.<kind>]`` with the same keys as a rules file; a kind without a module of its
own gets the generic adapter, and may name an existing hook dialect (``hooks = "claude"``).

Keys of a rules file (parsed by `app.core.profiles`):

- ``command``: argv that starts the agent (``{python}`` = this Python, ``{shell}`` = the user's
  shell); ``program``: what must be installed (checked on PATH before anything is created);
- ``prompt``: ``"argv"`` (the prompt is appended as ``prompt_args``) or ``"type"`` (typed once
  ready); ``ready``: the status in which a typed prompt may be delivered;
- ``rules``: screen rules, first match wins (see `app.core.profiles.ScreenRule`; a rule's
  ``detail`` pattern gives an error or a retry its line); ``chrome``: lines that are UI
  furniture, not output (footers, sidebars, model and path lines: skipped for the "last line"
  column); ``input``: the CLI's input line, where typed text stands until the CLI takes it;
- ``hooks``: the hook dialect the CLI speaks, named after the module that knows it
  (``"claude"``, ``"codex"``, ``"gemini"``, ``"aider"``): Quarterdeck installs its hook for the
  agents it starts; ``""`` for none; ``status_file``: an agent-side status file to read
  (``"claude"``: ``sessions/<pid>.json``);
- ``env``: variables set in its agents' environment, over the environment of the command that
  starts them (where its CLI keeps its settings is read from the result);
- ``interrupt``: the keys that interrupt it; ``answer``: how a dialog takes an answer:
  ``"digit"`` (the option's number, the default), ``"arrows"`` (Down to it, then Enter) or
  ``"letter"`` (its first letter, then Enter), and a rule's own ``answer`` for a dialog that
  differs (a list without numbers takes arrows); ``dialog_focus``: which of several dialogs on
  one screen takes the keys (``"top"``, ``"bottom"``; unset: not known, answers refused);
  ``answer_wait``: seconds an answered dialog of a kind may take to change (``{ trust = 40 }``);
  ``restarting``: what the CLI shows while it restarts to apply an answer; ``interrupt_again``:
  what it shows when the interrupt key must be pressed again; ``busy_input``: ``"queue"`` if it
  takes typed messages while it works, else ``"wait"``.
"""
