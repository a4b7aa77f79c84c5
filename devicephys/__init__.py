"""devicephys."""
