from vitaphone.cli import main

main()
