"""Where Lakebed's default RSEs keep a file's bytes: Rucio's `hash` lfn2pfn under the RSE's root."""
import hashlib


def hash_path(scope, name):
    """`<scope>/<md5[0:2]>/<md5[2:4]>/<name>`, with the dots of `user.*` and `group.*` scopes as folders, as Rucio's
    `hash` algorithm places a file under an RSE's prefix."""
    h = hashlib.md5(f"{scope}:{name}".encode()).hexdigest()
    s = scope.replace(".", "/") if scope.startswith(("user", "group")) else scope
    return f"{s}/{h[0:2]}/{h[2:4]}/{name}"
