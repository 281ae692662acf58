"""The joint intent + slot network, its label maps, and the model directory it lives in."""
