// The app's own words (the verdicts' words and reasons come from the verifier, in both
// languages). Chinese first.
export const WORDS = {
  zh: {
    title: '检查站核验', ready: '等待扫码', qrText: '扫码枪或粘贴二维码内容', check: '核验',
    qrImage: '或选择二维码图片', setup: '设置', root: '根密钥', rootFile: '固定根密钥（root.pub 文件）',
    bundle: '信任包', bundleFile: '安装信任包（bundle.cose 文件）', checkpoint: '本检查站',
    officer: '执勤民警警号', log: '今日查验记录', export: '导出 CSV', time: '时间', plate: '车牌',
    serial: '证号', number: '通行证编号', result: '结果', reasons: '原因', trailer: '挂车', driver: '驾驶员', id: '身份证',
    occupants: '随车人数', category: '物资类别', cargo: '货物', from: '起点', to: '终点',
    route: '路线', valid: '有效期', test: '核酸采样', hoursAgo: '小时前', offline: '可离线使用',
    online: '在线', noNetwork: '无网络', noRoot: '请先固定根密钥', noBundle: '请先安装信任包',
    noCheckpoint: '请选择本检查站', sequence: '序号', issued: '签发', age: '已', hours: '小时',
    stale: '已过期，请更新', simulated: '模拟时间', noQr: '图片中未找到二维码',
    installed: '已安装', loading: '正在加载…', switchTo: 'English',
  },
  en: {
    title: 'Checkpoint', ready: 'Ready to scan', qrText: 'Scanner input or pasted QR text', check: 'Check',
    qrImage: 'or choose a QR image', setup: 'Set-up', root: 'Root key', rootFile: 'Pin the root key (root.pub file)',
    bundle: 'Trust bundle', bundleFile: 'Install a trust bundle (bundle.cose file)', checkpoint: 'This checkpoint',
    officer: 'Officer ID', log: "Today's scans", export: 'Export CSV', time: 'Time', plate: 'Plate',
    serial: 'Serial', number: 'Pass number', result: 'Result', reasons: 'Reasons', trailer: 'Trailer', driver: 'Driver', id: 'ID card',
    occupants: 'Occupants', category: 'Category', cargo: 'Cargo', from: 'From', to: 'To',
    route: 'Route', valid: 'Valid', test: 'Test sampled', hoursAgo: 'h ago', offline: 'works offline',
    online: 'online', noNetwork: 'no network', noRoot: 'Pin the root key first', noBundle: 'Install a trust bundle first',
    noCheckpoint: 'Choose this checkpoint', sequence: 'sequence', issued: 'issued', age: 'age', hours: 'h',
    stale: 'out of date, update it', simulated: 'Simulated clock', noQr: 'No QR code found in the image',
    installed: 'installed', loading: 'Loading…', switchTo: '中文',
  },
};
