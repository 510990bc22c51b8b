"""A small version of `python -m bench.load`: concurrent sessions all answered right, and past the
queue's limit a fast "Queue is full! Please try again." instead of a hang."""
from bench.load import overflow, sessions
from conftest import free_port


def test_concurrent_sessions_all_answered(app_url):
    result = sessions(app_url, n_sessions=10, n_requests=5, timeout=300)
    assert result["failed"] == 0, result["failures"]
    assert result["ok"] == 50 and result["wrong_numbers"] == 0


def test_past_the_queue_limit_callers_are_told_it_is_busy():
    import app

    demo = app.build().queue(default_concurrency_limit=1, max_size=2)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                **app.launch_options())
    try:
        result = overflow(demo.local_url, n_calls=16)
    finally:
        demo.close()
    assert result["hung"] == 0 and result["other_failures"] == 0, result
    assert result["answered"] >= 1 and result["refused"] >= 1, result
    assert "queue is full" in result["refusal_message"].lower() and "try again" in result["refusal_message"].lower()
    assert result["slowest_refusal_s"] < 10
