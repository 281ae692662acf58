"""Recovery agent: "retry request X", "roll back request X" and the saga of a failed request."""
