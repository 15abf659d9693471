"""Stand-in for the get-pip script that ansible-test downloads to bootstrap pip in its venvs.

The download host is unreachable here, so `make setup` saves this file where ansible-test
caches that script. It installs pip from Python's bundled ensurepip wheel, then runs
`python -m pip install` with the arguments ansible-test passed (the pinned pip version).
"""

import ensurepip
import os
import subprocess
import sys

# ensurepip blanks PIP_* variables in os.environ (PIP_CONFIG_FILE among them); without this
# copy the pip run below would lose the configured index and CA bundle.
saved_environment = dict(os.environ)

# get-pip's own switches; pip install does not know them and nothing extra is installed anyway.
GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}
pip_arguments = [argument for argument in sys.argv[1:] if argument not in GET_PIP_ONLY_OPTIONS]

ensurepip.bootstrap(upgrade=True, default_pip=True)
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + pip_arguments, env=saved_environment))
