"""What a notebook cell calls to teach Docker, one module per concern (layers, volumes, monitoring, the Java data
server …). Lessons import the core only: no exercise, no infrastructure (make lint)."""
