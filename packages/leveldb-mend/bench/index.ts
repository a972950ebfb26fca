// `pnpm bench` runs both: the codec choice, then what each kind of damage costs.
import { benchCodecs } from './codecs.ts'
import { benchDamage } from './damage.ts'

await benchCodecs()
console.log('')
await benchDamage()
