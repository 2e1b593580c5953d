"""The core every notebook and tool stands on: the daemon and its CLI, commands and their results, waits, ports,
labels and clean-up, images, the course's errors. It imports nothing from the layers above it (make lint)."""
