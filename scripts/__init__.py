"""Developer scripts; a package so that the snapshot tests can take the screenshots' tour."""
