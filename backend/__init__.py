"""Babelscope's backend: pure Python, no gradio. Usable from notebooks, scripts and tests."""
