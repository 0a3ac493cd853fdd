"""One function per pipeline stage: plain arguments in, files out."""
