# Fails with MESSAGE: stands in for a test whose tools are missing.
message(FATAL_ERROR "${MESSAGE}")
