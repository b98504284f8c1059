import sys

from hf_hybrid.experiments import main

sys.exit(main())
