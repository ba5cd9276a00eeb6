def add(a, b):
    for _ in range(100_000):
        print("x" * 1000)
    return a + b
