"""Vitaphone: a portrait and a quote in, a labelled, watermarked talking-head video out."""

__version__ = "0.1.0"
