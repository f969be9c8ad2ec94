/** Word lists for the synthetic county: 滕州市 and its towns, names as they are common in Shandong. */
import { type Random, Weighted } from './random.js';

export const PROVINCE = { code: '37', name: '山东省' };
export const CITY = { code: '3704', name: '枣庄市' };
export const COUNTY = { code: '370481', name: '滕州市' };

/** The 21 towns and streets in code order; streets (街道) are the urban core and hold more pupils. */
export const TOWN_NAMES = [
  '荆河街道',
  '龙泉街道',
  '北辛街道',
  '善南街道',
  '东沙河街道',
  '洪绪镇',
  '南沙河镇',
  '大坞镇',
  '滨湖镇',
  '级索镇',
  '西岗镇',
  '姜屯镇',
  '鲍沟镇',
  '张汪镇',
  '官桥镇',
  '柴胡店镇',
  '羊庄镇',
  '木石镇',
  '界河镇',
  '龙阳镇',
  '东郭镇',
] as const;

export const GRADE_NAMES = ['一年级', '二年级', '三年级', '四年级', '五年级', '六年级', '七年级', '八年级', '九年级'];

const SURNAMES: [string, number][] = [
  ['王', 75],
  ['张', 65],
  ['李', 65],
  ['刘', 50],
  ['孙', 30],
  ['杨', 25],
  ['陈', 20],
  ['徐', 20],
  ['赵', 20],
  ['马', 15],
  ['高', 15],
  ['朱', 13],
  ['宋', 12],
  ['褚', 10],
  ['于', 10],
  ['韩', 10],
  ['胡', 10],
  ['郭', 10],
  ['魏', 10],
  ['孟', 10],
  ['周', 10],
  ['黄', 8],
  ['吴', 8],
  ['曹', 8],
  ['田', 8],
  ['姜', 8],
  ['侯', 7],
  ['崔', 7],
  ['颜', 6],
  ['邵', 6],
  ['杜', 6],
  ['程', 6],
  ['许', 6],
  ['吕', 6],
  ['丁', 6],
  ['任', 6],
  ['殷', 4],
  ['袁', 5],
  ['董', 6],
  ['薛', 5],
];
const surnames = new Weighted(
  SURNAMES.map(([s]) => s),
  SURNAMES.map(([, w]) => w),
);

const BOY = [...'子浩宇轩博睿泽一梓辰俊皓明晨铭航豪文杰鑫凯然阳瑞奕嘉锦煜琪昊逸宸天佑昕诚硕毅'];
const GIRL = [...'欣梓涵雨诗思一可佳子语馨怡萱琪悦彤静雅妍若依婉钰晨瑶菲嘉乐然梦舒蕊艺茜'];
const MAN = [...'建国志军伟强明永海峰勇刚华平东成磊涛斌波立新庆宝春林传德广祥'];
const WOMAN = [...'丽芳娟敏静艳霞燕红梅玲英萍华秀云莉娜琳慧凤兰春玉翠荣洁晓'];

export type Sex = 'MALE' | 'FEMALE';

export function surname(rng: Random): string {
  return surnames.pick(rng);
}

function given(rng: Random, chars: readonly string[], twoShare: number): string {
  const one = rng.pick(chars);
  return rng.chance(twoShare) ? one + rng.pick(chars) : one;
}

/** A child born 2010s–2020s: mostly two-character given names. */
export function childName(rng: Random, family: string, sex: Sex): string {
  return family + given(rng, sex === 'MALE' ? BOY : GIRL, 0.8);
}

/** A parent, grandparent or teacher. */
export function adultName(rng: Random, sex: Sex, family = surname(rng)): string {
  return family + given(rng, sex === 'MALE' ? MAN : WOMAN, 0.6);
}

const VILLAGE_HEADS = [...'张李王刘孙杨陈徐赵马高朱宋褚于韩胡郭魏孟周黄吴曹田姜侯崔颜邵杜程许吕丁任殷袁董薛'];
const VILLAGE_TAILS = ['庄', '楼', '营', '寨', '集', '屯', '洼', '岗', '店', '桥', '湖', '官庄', '河', '堂', '村'];
const COMMUNITY_NAMES =
  '杏坛 学院 龙泉 善国 文化 荆河 红荷 北辛 大同 塔寺 玄武 平行 东城 西城 南湖 北湖 益康 鑫城 御园 柳园 桃园 书院 墨子 鲁班 奚公'.split(
    ' ',
  );

/** A village (镇) or a community (街道), distinct within its town. */
export function villageName(rng: Random, street: boolean, taken: Set<string>): string {
  for (;;) {
    const name = street
      ? `${rng.pick(COMMUNITY_NAMES)}社区`
      : `${rng.pick(VILLAGE_HEADS)}${rng.pick(VILLAGE_TAILS)}村`.replace('村村', '村');
    if (!taken.has(name)) {
      taken.add(name);
      return name;
    }
  }
}

export const ROADS = [
  '荆河路',
  '善国路',
  '学院路',
  '解放路',
  '龙泉路',
  '杏坛路',
  '北辛路',
  '大同路',
  '塔寺路',
  '平行路',
  '文化路',
  '墨子路',
];

/** Where children of families working away live (省外/省内就读 of the verification outcomes). */
export const AWAY_CITIES = [
  '江苏省苏州市',
  '浙江省宁波市',
  '上海市闵行区',
  '北京市大兴区',
  '广东省东莞市',
  '山东省济南市',
  '山东省青岛市',
  '天津市滨海新区',
];

export const PRIVATE_NAMES = ['育才', '启明', '英才', '博文', '明德', '致远'];

export const DISABILITIES = ['视力残疾', '听力残疾', '言语残疾', '肢体残疾', '智力残疾', '精神残疾', '多重残疾'];
export const DISABILITY_GRADES = ['一级', '二级', '三级', '四级'];
export const POVERTY_CATEGORIES = new Weighted(
  ['建档立卡脱贫户', '低保户', '防返贫监测户', '特困供养'],
  [50, 30, 15, 5],
);
export const DIFFICULTY_CATEGORIES = [
  '困境儿童（家庭经济困难）',
  '困境儿童（自身重病重残）',
  '困境儿童（家庭监护缺失）',
];

export const DROPOUT_NOTES = ['连续旷课，家长称孩子厌学', '随父母外出务工，未办理转学手续', '沉迷网络，多次劝返未果'];
export const SUSPEND_NOTES = ['因病休学，附医院诊断证明', '因伤休学，家长申请', '心理疾病，遵医嘱休学'];

/** A mobile number as issued in China: 1, a network digit 3–9, nine digits. */
export function mobile(rng: Random): string {
  return `1${rng.pick(['3', '5', '7', '8', '9'])}${rng.digits(9)}`;
}
