module lastgasp.test/gocrash

go 1.22
