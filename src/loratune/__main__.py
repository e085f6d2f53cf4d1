from loratune.cli import main

main()
