complete --keep-order --exclusive --command azobo --arguments "(COMPLETE=fish azobo -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
