"""Running the calendar: due deliveries dispatched, retried, recovered after downtime."""
