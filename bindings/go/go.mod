module liblane.dev/lane

go 1.21
