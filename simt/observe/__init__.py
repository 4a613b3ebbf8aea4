"""Tools that observe launches through :class:`simt.machine.events.Observer`."""
