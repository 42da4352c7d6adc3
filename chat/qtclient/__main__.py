"""``python -m chat.qtclient``"""

import sys

from chat.qtclient.main import main

sys.exit(main())
