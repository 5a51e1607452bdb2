"""Figures and notebook widgets (matplotlib, ipywidgets); the maths lives elsewhere."""
