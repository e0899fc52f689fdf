"""Side panels: the loss editor, the runs and their settings."""
