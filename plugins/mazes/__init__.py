"""MazeGPT task plugin (placeholder)."""
