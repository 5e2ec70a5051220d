"""Turns folders of Chinese work reports into passages and builds the indexes over them."""

__version__ = "0.5.4"
