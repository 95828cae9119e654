"""geo — Doorstep's spatial model: loading, validating, projecting, road network, travel times."""
