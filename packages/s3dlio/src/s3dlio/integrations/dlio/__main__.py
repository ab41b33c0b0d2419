"""`python -m s3dlio.integrations.dlio COMMAND [DLIO_PATH]`: install s3dlio into a DLIO tree.

Commands: `install-dropin` (replace storage/s3_torch_storage.py), `install` (add storage/s3dlio_storage.py)
and `patch` (write the patch that adds `storage_type: s3dlio`; `-o FILE`). DLIO_PATH is the checkout
holding dlio_benchmark/ or that directory; without it, the dlio_benchmark importable here.
"""

from __future__ import annotations

import argparse
import sys

from . import generate_patch, install_dropin_replacement, install_s3dlio_storage
from ._install import dlio_package_dir
from ._patch import DEFAULT_PATCH_FILE


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m s3dlio.integrations.dlio", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["install-dropin", "install", "patch"])
    p.add_argument("dlio_path", nargs="?", default=None)
    p.add_argument("-o", "--output", default=DEFAULT_PATCH_FILE, help="patch file (patch command)")
    a = p.parse_args(argv)
    try:
        if a.command == "install-dropin":
            print(f"installed {install_dropin_replacement(a.dlio_path)}")
        elif a.command == "install":
            path = install_s3dlio_storage(a.dlio_path)
            print(f"installed {path}\nregister the storage type: python -m s3dlio.integrations.dlio patch "
                  f"{a.dlio_path or ''} and apply it with patch -p1")
        else:
            out = generate_patch(a.dlio_path, a.output)
            root = dlio_package_dir(a.dlio_path).parent
            print(f"wrote {out}\napply it with: cd {root} && patch -p1 < {out}")
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
