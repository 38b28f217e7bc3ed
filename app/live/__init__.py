"""Live fan-out: what subscribers receive (messages), on which channels and in which wire
format (topics, wire), each subscriber's bounded mailbox, the hub every process shares, the
backends it runs on (memory, Redis), publishing, and the streams the subscriptions read."""
