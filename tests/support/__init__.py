"""Helpers shared by tests (and the app benchmark): free ports, synthetic audio and images."""
