def add(a, b):
    return "z" * (40 * 1024 * 1024)
