"""infrawire: decision cards for AI-infrastructure news."""

__version__ = "0.1.0"
