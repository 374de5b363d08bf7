from cspa.cli import main

main()
