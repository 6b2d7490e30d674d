module lastgasp.test/corpus

go 1.22
