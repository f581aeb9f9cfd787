"""The Textual dashboard: renders view models from the fleet port and posts the human's intents."""
