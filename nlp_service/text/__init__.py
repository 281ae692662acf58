"""Text handling shared by training and serving: word splitting, span decoding, value normalisation."""
