"""One module per CLI command: each turns options into library calls and output."""
