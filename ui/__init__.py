"""Babelscope's Gradio front end: thin handlers over ``backend``."""
