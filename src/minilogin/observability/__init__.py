"""What operators watch: Prometheus metrics, the request and login-event logs."""
