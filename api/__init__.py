"""The outside world: configuration, command line, storage, queue and HTTP. Only this package reads env vars."""
