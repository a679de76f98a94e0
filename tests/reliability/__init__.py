"""Reliability harness: a small live workspace, the five fakes instrumented, a runner driver.

- `workspace`: builds the workspace (three sample items, five live channels pointing at
  the fakes, a three-day calendar) and the credentials the child process gets.
- `platforms`: the fakes, each recording which delivery (and which simulated moment) every
  request and every post belongs to; they can kill the runner while a request is in
  flight and inject a seeded storm of faults.
- `driver`: the runner process (a CampaignRunner ticking a simulated clock), started and
  SIGKILLed by `launcher`.
- `history`: the checks (no duplicate, no loss, stated end states, waits, caps) and figures.
"""
