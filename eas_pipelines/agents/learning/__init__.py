"""The learning agent: classification feedback, corrections as training data, retraining."""
