"""Training and evaluation of the joint intent + slot model."""
