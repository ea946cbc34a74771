"""Physical constants, kinematics on arrays and hadronic inputs."""
