"""One module per scanner: how to run it protocol-only on a list of targets and read its verdicts."""
