/**
 * Ciphertexts that appear in the official kit (SoapUI samples, example files) but not next to their
 * plaintext in the kit's user files. They were made with the real SanitelCF key, which the simulator
 * does not have; knowing them lets the kit's own samples run against the simulator unchanged.
 * The user files' pairs ("Pincode cifrato", "CF proprietario cifrato") are read from the kit itself.
 */
export const KIT_SAMPLE_CIPHERTEXTS: readonly {
  ciphertext: string;
  plaintext: string | null;
  why: string;
}[] = [
  {
    ciphertext:
      'LsQiYtf7FcpMYVKvf+51V6t1BSUk+E/dGOB2vmwNl0DhirZ8QzvTI2Ay04p6+t+eH+DjzkJpXrlEEZvKRz6wKVNOt7uYSQUYKBIFcbcEQJnqT7zTgtz7jV3BK+QaEphfKRsOP1Iejv+vKvJ/3te2xNMHPkNYZIAjxEQHftw9Swk=',
    plaintext: '1234567890',
    why: 'pincode of the Medico user in its SoapUI project (docs/protocol.md §2.2: a second encryption of 1234567890)',
  },
  {
    ciphertext:
      'W6w44BBYPZpwp3bmcJwOylOIPV7DBCcJHGteiv/JV5l1QKzINRxvXeh0cyVU35ssE+5Wqj24Gq9rZ/RupPqkWSJ+jaVZ7/Q5cIfTrzj1sSXzosgjE7L9q2/fn4xGbJJGCi9d4M8w7P3EXVLRuho/v2r5xUCCVHTFyKAntw+o2lU=',
    plaintext: 'BBTMRZ54L19H501T',
    why: 'cfProprietario of farmacia.xml (pharmacy 130-204-78909, whose owner is BBTMRZ54L19H501T)',
  },
  {
    ciphertext:
      'hYbvj0bRDx2wj+nXYuWKYKgzr8LcQU6/lWR1nLrMYDDNyBKoRh0dQm8FyKOsIPT5MYN8zgaVA46yNC7NgCETjqCYFBkvexCR+94/ngLWb8+VuRHBmhZXTQow/KmoFXH5wuf3OuGhe1fvWrL+vYdfJfLj2/wECGOucPlMPi8ELgE=',
    plaintext: 'QUIQQU98A01H501H',
    why: 'cfProprietario of radiologo.xml (the Radiologo user)',
  },
  {
    ciphertext:
      'jh/W2LUu8JEWmILRl4RQaAGKyPVf+DgHGXT/8bUUP3fPm/WLqkxAdHRDllBFteYSAc2gZLOghDbsutye1fheBcg7x3NVePMG1VJxoBpA8ILZWVGIym7eR4vrsxxoM6aB0i3UIhHsi548F/0Ff3LVKfbKUfG070RzdRcFb+8LrmU=',
    plaintext: 'FBNFBA62S28H501F',
    why: 'cfProprietario of medicoDelegaCommercialista.xml (the doctor delegating the Entratel intermediary)',
  },
  {
    ciphertext:
      'iKvd9JQntqxPBT2UA/OFfztSNLidocP8Op+NfODzfTdxFWzkcdZrJz5gvCuqv7Dh/r3Cin1ZQMmg/BofIqYCyq2PcC+PJzbvQCocDdl6FrXVXs3W5JhnX7VpWFGCLPYYY2WL+RWKxhfkGqeY8+NCVfQ1lEA15g3W5AabJ15Tthk=',
    plaintext: null,
    why: 'cfCittadino of the kit samples: a test citizen whose plaintext the kit does not give (docs/protocol.md §2.5)',
  },
  {
    ciphertext:
      'eBLjFJPzZSi1D76ueyupyXbeq82HvxgoA/LlJLZVbG+gkJQ8gAkae1ApyRfNhbVYM/HNyPq7+pX62gdjN1NgRZ5j50FMmuYd6cXdq1ZrJfhQ9V7sLbCibsFLALSSNsapGUEyXxGhWC+5k4R0NoM1kdrdPOi//beWy0u7uwfTuWY=',
    plaintext: null,
    why: 'cfCittadino of the Rimborso and Farmacia samples: another test citizen, plaintext unknown',
  },
];
