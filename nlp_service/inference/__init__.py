"""Turning raw text into a parse: intent, confidence, alternatives, entities."""
