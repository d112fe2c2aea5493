# The seed's producer/consumer generator demo, run by tests/coroutine_protocol.rs
# to check that `cargo run --example coroutine` prints the same lines.
import inspect


def consumer():
    r = ''
    while True:
        n = yield r
        if not n:
            return
        print('[CONSUMER] Consuming %s...' % n)
        r = '200 OK'


def produce(c):
    print('c.send(None) -> %r' % c.send(None))
    n = 0
    while n < 5:
        n = n + 1
        print('[PRODUCER] Producing %s...' % n)
        r = c.send(n)
        print('[PRODUCER] Consumer return: %s' % r)
    c.close()


c = consumer()
produce(c)
assert inspect.getgeneratorstate(c) == inspect.GEN_CLOSED
