"""What runs the course rather than teaches it: set-up and the lab, the engines and their matrix, rootless Docker,
the workshop hub, the offline kit and room registry, CI's runs of notebooks. No lesson or exercise imports it."""
