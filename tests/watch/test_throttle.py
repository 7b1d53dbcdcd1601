from reconcile.watch.throttle import Throttle


def test_the_first_event_is_told_at_once_then_one_line_per_interval_with_a_count() -> None:
    now = [0.0]
    throttle = Throttle(10.0, clock=lambda: now[0])
    assert throttle.count() == 1
    now[0] = 5.0
    assert throttle.count() is None
    assert throttle.count() is None
    now[0] = 10.0
    assert throttle.count() == 3  # the two held back and this one
    now[0] = 19.9
    assert throttle.count() is None
