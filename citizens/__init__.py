"""Clients: citizens and enterprises, one record each (the 360° view grows here)."""
